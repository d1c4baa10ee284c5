//! Writes the seed inputs of every target to `fuzz/seeds/<target>/<name>` (replacing the
//! files written before): `cargo run --manifest-path fuzz/Cargo.toml --example gen_seeds`.

use std::fs;
use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    for (target, seeds) in at_wifi_fuzz::seeds::all() {
        let dir = root.join(target);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        let mut bytes = 0;
        for (name, input) in &seeds {
            bytes += input.len();
            fs::write(dir.join(name), input)?;
        }
        println!("{target}: {} seeds, {bytes} bytes", seeds.len());
    }
    Ok(())
}
