// Everything a handler needs, passed explicitly rather than through globals.

import type { Authorizer } from './auth.ts';
import type { InFlightLocks, MutationGate } from './locks.ts';
import type { SimStore } from './store.ts';

export interface HandlerContext {
  store: SimStore;
  locks: InFlightLocks;
  gate: MutationGate;
  authorizer: Authorizer;
}
