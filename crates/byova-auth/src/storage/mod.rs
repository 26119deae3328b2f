//! Where tokens live: the [`TokenStorage`] trait and its in-memory, file and Redis stores.

mod file;
mod lock;
mod memory;
#[cfg(feature = "redis")]
mod redis;
mod traits;

pub use file::FileTokenStorage;
pub use lock::LockToken;
pub(crate) use lock::{LockGuard, lock_name};
pub use memory::MemoryTokenStorage;
#[cfg(feature = "redis")]
pub use redis::{DEFAULT_REDIS_PREFIX, RedisTokenStorage};
pub use traits::TokenStorage;
