// Admits one waiting name into the pipeline: a place in the pipeline first, then this replica's
// claim on the file, and only then its bytes, handed to the pipeline with how to acknowledge it.
import type { Host, Logger, Slot } from '../../core/index.ts';
import type { Acknowledger } from './acknowledger.ts';
import type { AdmissionQueue } from './queue.ts';
import type { EntryReader } from './reader.ts';

export interface AdmissionOptions {
  /** The source's instance id, named in every envelope. */
  source: string;
  host: Host;
  queue: AdmissionQueue;
  reader: EntryReader;
  acknowledger: Acknowledger;
  log: Logger;
}

/** Throws only when the pipeline refuses a place (it is stopping). */
export async function admitOne(admission: AdmissionOptions, name: string): Promise<void> {
  const { queue } = admission;
  // Queued again (by a rescan) while it is still being processed: the running admission owns
  // it; a change meanwhile was noted by offer() and is offered again when it is done with.
  if (queue.active.has(name)) return;
  // Counted as active from here on, so `idle()` cannot resolve while it waits for a place.
  queue.active.add(name);
  const slot = await placeAndClaim(admission, name);
  if (slot === undefined) return;
  try {
    await readAndProcess(admission, name, slot);
  } catch (error) {
    slot.release();
    admission.log.error({ err: error, file: name }, 'could not read the file; it will be offered again');
    admission.acknowledger.handBack(name);
  }
}

/** A place in the pipeline and the claim on the file; undefined (the name dropped) if either is not to be had. */
async function placeAndClaim({ host, queue, log }: AdmissionOptions, name: string): Promise<Slot | undefined> {
  let slot: Slot;
  try {
    slot = await host.acquire();
  } catch (error) {
    queue.drop(name);
    throw error;
  }
  if (queue.stopped) {
    slot.release();
    queue.drop(name);
    return undefined;
  }
  const claim = await host.claim(name).catch((error: unknown) => {
    log.warn({ err: error, file: name }, 'could not claim the file; offering it again later');
    return undefined;
  });
  if (claim === undefined) {
    // Another replica holds it (or the coordinator is unreachable): the rescan offers it
    // again, so a replica that dies mid-way does not strand its files.
    slot.release();
    queue.drop(name);
    return undefined;
  }
  queue.claims.set(name, claim);
  return slot;
}

async function readAndProcess(admission: AdmissionOptions, name: string, slot: Slot): Promise<void> {
  const { reader, queue, acknowledger } = admission;
  const result = await reader.read(name);
  if (result.kind === 'gone') {
    reader.forget(name);
    slot.release();
    queue.finish(name);
    return;
  }
  const read = result.kind === 'read' ? result : undefined;
  const identity = read?.identity;
  void slot.process({
    file: name,
    source: admission.source,
    bytes: read === undefined ? new Uint8Array() : read.bytes,
    receivedAt: Date.now(),
    // The producer's write time orders intents for one target across replicas.
    ...(identity === undefined ? {} : { order: identity.mtimeMs }),
    ...(result.kind === 'refused' ? { refusal: result.error } : {}),
    ack: (outcome) => acknowledger.ack(name, read, outcome),
    release: () => acknowledger.handBack(name),
    ...(read === undefined ? {} : { confirmUnchanged: () => acknowledger.confirmUnchanged(name, read.identity) }),
  });
}
