//! {{name}}: an ordinary std program that unik turns into a unikernel.

fn main() {
    println!("Hello from {{name}}!");
    for (index, word) in std::env::args().skip(1).enumerate() {
        println!("argument {index}: {word}");
    }
}
