"""TypeScript contracts for socket.io-client, generated from the AsyncAPI document."""
