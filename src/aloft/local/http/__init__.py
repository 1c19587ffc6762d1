"""The local cloud's HTTP front, like API Gateway: the server, the socket-free gateway, routing,
CORS, static files and the proxy integration (requests as events, results as responses)."""
