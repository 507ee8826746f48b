// mistake: the error names the innermost frame on the stack, not the frame that was refused
// region: push
if self.frames.len() >= self.limit {
    return Err(StackOverflow {
        limit: self.limit,
        frame: self.frames.last().copied().unwrap_or(name),
        top: self
            .frames
            .iter()
            .rev()
            .take(FRAMES_IN_OVERFLOW)
            .copied()
            .collect(),
    });
}
self.frames.push(name);
Ok(())
