//! Pure types and rules shared by every layer: identifiers, validated inputs and the error type.

mod error;
mod ids;
mod inputs;

pub use error::DomainError;
pub use ids::UserId;
pub use inputs::{ClientId, MessageBody, Password, RoomName, Username, no_control_chars};
