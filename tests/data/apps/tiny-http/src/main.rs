//! tiny_http serving `GET /hello` and echoing a POST body, as its README shows it.

fn main() {
    let server = tiny_http::Server::http("0.0.0.0:8000").expect("listen on 8000");
    println!("tiny-http: listening on 0.0.0.0:8000");
    for mut request in server.incoming_requests() {
        let response = match (request.method(), request.url()) {
            (tiny_http::Method::Post, "/echo") => {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                tiny_http::Response::from_string(body)
            }
            (_, "/hello") => tiny_http::Response::from_string("hello from tiny_http\n"),
            _ => tiny_http::Response::from_string("not here\n").with_status_code(404),
        };
        if let Err(error) = request.respond(response) {
            eprintln!("tiny-http: {error}");
        }
    }
}
