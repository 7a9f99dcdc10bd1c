use scope_runtime::scope;

struct Api;

fn main() {
    let _ = scope!(Api, "read");
}
