// 20 ms of CPU work, done two ways. In one piece, a 5 ms timer waits until all of it is over.
// Cut into 2 ms chunks with setImmediate between them, the loop reaches its other phases
// between chunks, and the timer runs while the work is still going.
const busy = (ms) => { const end = performance.now() + ms; while (performance.now() < end); };
const CHUNKS = 10;

function inOnePiece(then) {
  let done = 0;
  setTimeout(() => {
    console.log(`in one piece: the 5 ms timer ran after ${done} of ${CHUNKS} chunks`);
    then();
  }, 5);
  for (; done < CHUNKS; done++) busy(2);
}

function inChunks() {
  let done = 0;
  setTimeout(() => console.log(`in chunks: the 5 ms timer ran before the work was done: ${done < CHUNKS}`), 5);
  (function chunk() {
    busy(2);
    done++;
    if (done < CHUNKS) setImmediate(chunk); // not nextTick: that would starve the loop
    else console.log('in chunks: the work is done');
  })();
}

inOnePiece(inChunks);
