//! A ZeroMQ pipe: a bounded queue inside one process, whose writer regains room only in
//! low-water steps (ZMQ-2; libzmq `pipe.cpp`, `compute_lwm`).

use crate::message::Slot;
use std::collections::VecDeque;

#[derive(Clone, Debug, Default)]
pub struct Pipe {
    pub q: VecDeque<Slot>,
    /// 0 = unlimited.
    pub hwm: u32,
    /// Messages the writer has put in (for an in-pipe: sent towards it, so the wire counts).
    written: u64,
    read: u64,
    /// The reader's count as the writer last saw it: `read` rounded down to a step of `lwm`.
    credit: u64,
}

impl Pipe {
    pub fn new(hwm: u32) -> Pipe {
        Pipe {
            hwm,
            ..Pipe::default()
        }
    }

    /// Whether the writer may write one more (`msgs_written - peers_msgs_read < hwm`).
    pub fn has_room(&self) -> bool {
        self.hwm == 0 || self.written - self.credit < u64::from(self.hwm)
    }

    pub fn write(&mut self) {
        self.written += 1;
    }

    /// One message read; true when the writer sees its credit come back (every
    /// `lwm = (hwm + 1) / 2` reads).
    pub fn read(&mut self) -> bool {
        self.read += 1;
        let lwm = u64::from(self.hwm).div_ceil(2); // (hwm + 1) / 2
        if self.hwm == 0 || self.read % lwm == 0 {
            self.credit = self.read;
            return true;
        }
        false
    }

    /// Keeps what the pipe holds but forgets what was sent towards it: a new connection's
    /// counts start from the messages still in it.
    pub fn reconnected(&mut self) {
        self.written = self.q.len() as u64;
        self.read = 0;
        self.credit = 0;
    }

    /// Empties the pipe, as a new one with the same limit.
    pub fn take(&mut self) -> VecDeque<Slot> {
        let q = std::mem::take(&mut self.q);
        *self = Pipe::new(self.hwm);
        q
    }
}
