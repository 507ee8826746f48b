// mistake: pushes the frame first and checks afterwards: a refused push still changes the stack
// region: push
self.frames.push(name);
if self.frames.len() > self.limit {
    return Err(StackOverflow {
        limit: self.limit,
        frame: name,
        top: self
            .frames
            .iter()
            .rev()
            .skip(1)
            .take(FRAMES_IN_OVERFLOW)
            .copied()
            .collect(),
    });
}
Ok(())
