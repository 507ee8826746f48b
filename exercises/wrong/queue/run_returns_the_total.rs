// mistake: run returns how many tasks ran since the loop was made, not in this call
// region: run
while let Some(task) = self.queue.pop() {
    assert!(
        self.stack.is_empty(),
        "run-to-completion violated: the stack still holds {:?} before task `{}`",
        self.stack.trace().frames(),
        task.name
    );
    self.stack.push(task.name)?;
    (task.run)(self);
    self.stack.pop();
    self.tasks_run += 1;
}
Ok(self.tasks_run)
