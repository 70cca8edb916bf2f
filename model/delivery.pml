/*
 * The delivery protocol of Conductor, as a Promela model checked exhaustively by spin
 * (`npm run model-check`; docs/delivery-model.md says what it abstracts and why).
 *
 * Actors
 *   - intent files in handoff/: an intent id (correlation_id), a content, the producer's order
 *     (the file's mtime, Envelope.order); all for one target
 *   - two replicas sharing handoff/, each with its OWN ledger (the HA overlay keeps the ledger in
 *     an emptyDir), taking per-file claims with leases (redis-coordination: SET NX PX, and
 *     compare-and-delete on release)
 *   - the sink (git or Porch): idempotent by intent id AND content hash, with the order rule (an
 *     intent older than the one the sink holds for its target is settled `superseded`)
 *   - what goes wrong: a replica crashes before any durable step (SIGKILL: its memory lost, its
 *     lease left to expire); a live replica stalls past its lease and the other one takes the
 *     file while it goes on; a ledger forgets (a record damaged and quarantined, pruned by
 *     retention, or the whole emptyDir gone with a rescheduled pod). Each is bounded
 *     (MAXCRASH, MAXSTALL, MAXFORGET), and every interleaving within the bounds is explored.
 *
 * Variants (macros, set by model/check.ts):
 *   WITHOUT_CONTENT_HASH  the sink recognises an earlier effect by intent id alone (issue 13,
 *                         defect 1): the check must report a violation of EXACTLY_ONCE
 *   WITHOUT_ORDER_RULE    the sink applies whatever arrives (issue 18, defect 4): the check must
 *                         report a violation of NEWEST_WINS
 *
 * Invariants (asserted), each with the tests that check the same thing in the code:
 *   ONE_EFFECT_PER_ID  an intent id takes effect at most once at the sink
 *       test/crash/crash-points.test.ts "crash harness (git|porch): killed at <point>, ..."
 *         ("effect": exactly one commit per Conductor-Intent-Id / one Published revision per
 *         workspace); test/porch/crash.test.ts "kill -9 ten times during 500 submissions, ..."
 *   EXACTLY_ONCE  an intent reported succeeded (or duplicate) has its own content applied exactly
 *     once; one refused as a conflict, or superseded, has its content applied never
 *       test/git-sink/effect-identity.test.ts "a reused correlation_id with other content is a
 *         conflict found in history, with the ledger gone"; test/porch/intent-identity.test.ts
 *         "a correlation_id reused with other content, the ledger lost: CND_ERR_INTENT_CONFLICT,
 *         ..."; test/unit/pipeline.test.ts "the ledger makes re-delivery a duplicate and reuse
 *         of a correlation_id with new content a conflict"; the crash harness ("effect")
 *   NEWEST_WINS  per target, the sink ends holding the content of the newest intent (producer's
 *     order) among those not refused
 *       test/git-sink/effect-identity.test.ts "an older intent arriving after a newer one for its
 *         target was applied is superseded"; test/porch/intent-identity.test.ts "newer intent
 *         applied first, an older one afterwards: superseded, ..." and "an older intent resumed
 *         after a newer one was published elsewhere: superseded, ..."; test/git-sink/
 *         newest-wins-replicas.test.ts "two replicas, N targets × (3, then 5 a moment later): every
 *         target ends at 5, ..."; the crash harness ("newest")
 *   STATUS_AGREES  every file leaves handoff/; one in failed/ says failed, one in processed/
 *     says succeeded, duplicate or superseded
 *       the crash harness ("handoff", "status")
 */

#define NF 3          /* intent files */
#define NR 2          /* replicas */
#define NID 2         /* intent ids (correlation ids) */
#define NC 4          /* contents 1..3 (0: none) */

#ifndef MAXCRASH
#define MAXCRASH 1    /* replica crashes, over the whole run */
#endif
#ifndef MAXSTALL
#define MAXSTALL 1    /* leases lost by a live holder (a stall longer than the lease) */
#endif
#ifndef MAXFORGET
#define MAXFORGET 1   /* ledger records lost (damage, retention, emptyDir) */
#endif

/* where a file is */
#define HANDOFF   0
#define PROCESSED 1
#define FAILED    2

/* outcomes (status/ and results) */
#define NONE       0
#define SUCCEEDED  1   /* succeeded or duplicate: the intent's effect is at the sink */
#define CONFLICT   3   /* failed: CND_ERR_INTENT_CONFLICT */
#define SUPERSEDED 4

/*
 * ledger record states (core/delivery/ledger.ts LedgerStatus): only `succeeded` lets a delivery
 * skip the sink (host.ts #process), so submitting, failed and superseded are one state here
 */
#define L_NONE      0
#define L_PENDING   1
#define L_SUCCEEDED 2

/* the files, as the producer wrote them (constants, set in init) */
byte fid[NF];
byte fcontent[NF];
byte forder[NF];

/* the data directory */
byte loc[NF];
byte status[NF];

/* claims: 0 free, r+1 held by replica r (its lease in Redis) */
byte claim[NF];

/* the ledgers: one per replica, a record per intent id */
typedef Record {
  byte st;
  byte hash;
};
Record ledger[NR * NID];
#define REC(r, id) ledger[(r) * NID + (id)]
#define FORGET(k) ledger[k].st = L_NONE; ledger[k].hash = 0

/* the sink: its history of effects (id, content) — never forgotten — and what it holds */
byte applied[NID * NC];
#define APPLIED(id, c) applied[(id) * NC + (c)]
byte held;        /* the content the target holds */
byte heldOrder;   /* the order recorded with it */

byte crashes;
byte stalls;
byte forgets;

/*
 * A file can be claimed when no lease is held on it — or when its holder, alive, stalled past
 * its lease (bounded): the other replica then takes it while the holder goes on. (A crashed
 * holder's lease is let go at the crash: see `crashed`.)
 */
#define CLAIMABLE(k) (claim[k] == 0 || (claim[k] != r + 1 && stalls < MAXSTALL))
#define TAKE(k) if :: claim[k] != 0 -> stalls++ :: else -> skip fi; claim[k] = r + 1

#define ALL_SETTLED (loc[0] != HANDOFF && loc[1] != HANDOFF && loc[2] != HANDOFF)

/* a crash may happen before any step (bounded); the replica then restarts with nothing in memory */
#define STEP if :: atomic { crashes < MAXCRASH -> crashes++ }; goto crashed :: true fi

inline idApplied(id, n) {
  n = APPLIED(id, 1) + APPLIED(id, 2) + APPLIED(id, 3)
}

/*
 * The sink's check-and-apply, atomic per target (git: under the repository writer lock, with
 * the ref moved by an atomic rename; Porch: the flow's view of the package revisions — see the
 * docs for the abstraction). Order of the checks as in the sinks: the same effect first (a
 * re-delivery is a no-op), then the same id with other content (a conflict), then the order.
 */
inline sink(id, c, o, res) {
  d_step {
    idApplied(id, n);
#ifdef WITHOUT_CONTENT_HASH
    if
    :: n > 0 -> res = SUCCEEDED               /* "reused": matched by id alone */
    :: else -> res = NONE
    fi;
#else
    if
    :: APPLIED(id, c) > 0 -> res = SUCCEEDED  /* reused: this very effect is there */
    :: APPLIED(id, c) == 0 && n > 0 -> res = CONFLICT
    :: else -> res = NONE
    fi;
#endif
#ifndef WITHOUT_ORDER_RULE
    if
    :: res == NONE && o < heldOrder -> res = SUPERSEDED
    :: else -> skip
    fi;
#endif
    if
    :: res == NONE ->
      printf("MSG: checking ONE_EFFECT_PER_ID at the sink for id %d\n", id);
      assert(n == 0);
      APPLIED(id, c)++;
      held = c;
      heldOrder = o;
      res = SUCCEEDED
    :: else -> skip
    fi;
    n = 0
  }
}

proctype Replica(byte r) {
  byte f = NF, id, c, o, res, n;

restart:
  do
  :: ALL_SETTLED -> break
  /*
   * fs-source + redis-coordination: claim a file in handoff/ (SET NX PX), read it, identify the
   * intent (host.ts #process: id and content hash). Reading has no effect: no crash point here.
   */
  :: d_step { f == NF && loc[0] == HANDOFF && CLAIMABLE(0) -> TAKE(0); f = 0; id = fid[0]; c = fcontent[0]; o = forder[0] }
  :: d_step { f == NF && loc[1] == HANDOFF && CLAIMABLE(1) -> TAKE(1); f = 1; id = fid[1]; c = fcontent[1]; o = forder[1] }
  :: d_step { f == NF && loc[2] == HANDOFF && CLAIMABLE(2) -> TAKE(2); f = 2; id = fid[2]; c = fcontent[2]; o = forder[2] }
  :: f < NF ->
    /*
     * One read of the ledger. `succeeded` before: #alreadyDone — the same content is a resume or
     * a duplicate (both SUCCEEDED here), other content a conflict. Otherwise #deliver calls the
     * sink with nothing written before it (crash point delivery.before-submit): what an earlier
     * attempt did, the sink finds by the effect's identity, so a record of the attempt would
     * change no outcome (it was the same "not succeeded" state as no record at all).
     */
    /*
     * The ledger forgets. Only this replica reads its ledger, and only here: a record lost at
     * any earlier moment is the same as one lost just before this read (a whole emptyDir lost
     * is each of its records lost; MAXFORGET bounds how many).
     */
    if
    :: atomic { forgets < MAXFORGET && REC(r, id).st != L_NONE -> forgets++; REC(r, id).st = L_NONE; REC(r, id).hash = 0 }
    :: true
    fi;
    d_step {
      if
      :: REC(r, id).st == L_SUCCEEDED && REC(r, id).hash != c -> res = CONFLICT
      :: REC(r, id).st == L_SUCCEEDED && REC(r, id).hash == c -> res = SUCCEEDED
      :: else -> res = NONE
      fi
    };
    if
    :: res != NONE -> goto settle
    :: else -> skip
    fi;
    STEP;                                         /* delivery.before-submit */
    sink(id, c, o, res);
    STEP;                                         /* git.ref-updated, porch.approved: effect made, reply lost */
    /*
     * the result into the ledger, committed before the source is told (ledger.before-commit loses
     * it): succeeded (#deliver); failed and superseded (#settleWithoutEffect)
     */
    d_step {
      if
      :: res == SUCCEEDED -> REC(r, id).st = L_SUCCEEDED; REC(r, id).hash = c
      :: else -> REC(r, id).st = L_PENDING
      fi
    };
    STEP;                                         /* delivery.succeeded-recorded */
settle:
    /* fs-source ack: a file no longer in handoff/ (the other replica moved it) is let go */
    if
    :: loc[f] != HANDOFF -> goto release
    :: else -> skip
    fi;
    status[f] = res;                              /* status/<stem>.status.json */
    STEP;                                         /* source.status-written */
    /* data-dir settle (link + unlink, never over another entry); the claim given back */
    d_step {
      if
      :: loc[f] == HANDOFF && res == CONFLICT -> loc[f] = FAILED
      :: loc[f] == HANDOFF && res != CONFLICT -> loc[f] = PROCESSED
      :: else -> skip
      fi
    };
release:
    skip;
    /* compare-and-delete: only a claim this replica still holds */
    d_step {
      if
      :: claim[f] == r + 1 -> claim[f] = 0
      :: else -> skip
      fi;
      f = NF; res = NONE; id = 0; c = 0; o = 0
    }
  od;
  goto done;

crashed:
  skip;
  /*
   * SIGKILL: nothing in memory survives. The claim stays in Redis until its lease expires; the
   * model lets it expire at once — sound for safety, since a run where it expires later is the
   * same run with nobody claiming the file in between.
   */
  d_step {
    if
    :: f < NF && claim[f] == r + 1 -> claim[f] = 0
    :: else -> skip
    fi;
    f = NF; res = NONE; id = 0; c = 0; o = 0
  };
  goto restart;
done:
  skip
}

init {
  byte i, n, newest;
  /*
   * f0: id A, content 1, order 1
   * f1: id A (its correlation_id reused), content 2, order 2       — issue 13 defect 1
   * f2: id B, content 3, order 3
   * All for one target, so an older intent can reach the sink after a newer one was applied
   * by the other replica (issue 18 defect 4). Re-delivery of one intent (same id, same
   * content) comes from crashes, stalls and forgetting, in every order.
   */
  d_step {
    fid[0] = 0; fcontent[0] = 1; forder[0] = 1;
    fid[1] = 0; fcontent[1] = 2; forder[1] = 2;
    fid[2] = 1; fcontent[2] = 3; forder[2] = 3
  };
  atomic {
    run Replica(0);
    run Replica(1)
  };
  (_nr_pr == 1);

  /* the end state. The promise first (EXACTLY_ONCE, NEWEST_WINS), then the bookkeeping. */
  newest = 0;
  for (i : 0 .. NF - 1) {
    printf("MSG: checking EXACTLY_ONCE for f%d (status %d)\n", i, status[i]);
    if
    :: status[i] == SUCCEEDED -> assert(APPLIED(fid[i], fcontent[i]) == 1)
    :: else -> assert(APPLIED(fid[i], fcontent[i]) == 0)
    fi;
    /* the newest intent not refused */
    if
    :: status[i] != CONFLICT && forder[i] > newest -> newest = forder[i]
    :: else -> skip
    fi
  };
  for (i : 0 .. NF - 1) {
    if
    :: forder[i] == newest ->
      printf("MSG: checking NEWEST_WINS: the target holds content %d, the newest intent f%d has %d\n", held, i, fcontent[i]);
      assert(held == fcontent[i])
    :: else -> skip
    fi
  };
  for (i : 0 .. NF - 1) {
    printf("MSG: checking STATUS_AGREES for f%d\n", i);
    assert(loc[i] != HANDOFF);
    assert(status[i] != NONE);
    assert((loc[i] == FAILED) == (status[i] == CONFLICT))
  };
  for (i : 0 .. NID - 1) {
    printf("MSG: checking ONE_EFFECT_PER_ID for id %d\n", i);
    idApplied(i, n);
    assert(n <= 1)
  }
}
