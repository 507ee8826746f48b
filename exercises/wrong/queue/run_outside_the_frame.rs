// mistake: the task runs before its frame is pushed, so it runs on an empty stack
// region: run
let mut ran = 0;
while let Some(task) = self.queue.pop() {
    assert!(
        self.stack.is_empty(),
        "run-to-completion violated: the stack still holds {:?} before task `{}`",
        self.stack.trace().frames(),
        task.name
    );
    let name = task.name;
    (task.run)(self);
    self.stack.push(name)?;
    self.stack.pop();
    self.tasks_run += 1;
    ran += 1;
}
Ok(ran)
