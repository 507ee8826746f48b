// unref() does not cancel a timer; it only stops the timer from keeping the
// process alive. An unref'd timer that comes due while something else keeps
// the loop running still fires; one due after that never does.
setTimeout(() => console.log("unref'd 5 ms timeout: fires, the loop is running anyway"), 5).unref();
setTimeout(() => console.log("unref'd 1000 ms timeout (must not print)"), 1000).unref();
setTimeout(() => console.log("ref'd 20 ms timeout"), 20);
process.on('exit', () => console.log('exit'));
