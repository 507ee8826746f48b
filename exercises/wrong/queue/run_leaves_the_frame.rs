// mistake: run never pops the task's frame: each task starts on top of the last one's frame
// region: run
let mut ran = 0;
while let Some(task) = self.queue.pop() {
    self.stack.push(task.name)?;
    (task.run)(self);
    self.tasks_run += 1;
    ran += 1;
}
Ok(ran)
