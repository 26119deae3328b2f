//! WebSocket proxy connector to an external AI backend.
