// What each answer of the real API means for an intent (docs/porch.md §Errors, §Concurrency, §Transport), checked on
// the envelopes as Porch and the kube-apiserver send them; and kubeconfig reading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, TransportError } from '../../plugins/porch-sink/client.ts';
import {
  isDuplicateWorkspace,
  isInFlight,
  isOutcomeUnknown,
  isPackageExists,
  isStaleResourceVersion,
  toSubmitError,
} from '../../plugins/porch-sink/errors.ts';
import { credentialsOf } from '../../plugins/porch-sink/kubeconfig.ts';

function answer(status: number, reason: string, message: string, retryAfterMs?: number): ApiError {
  return new ApiError({
    status,
    body: { reason, message },
    retryAfterMs,
    method: 'PUT',
    path: '/apis/porch.kpt.dev/v1alpha1/namespaces/ns/packagerevisions/r.p.w',
  });
}

const where = { plugin: 'porch-sink', intentId: 'a'.repeat(40), step: 'propose' };

test('each Porch and apiserver answer maps to the code the core acts on', () => {
  const cases: [ApiError, string, number?][] = [
    [answer(429, '', 'Too many requests, please try again later.', 3_000), 'CND_ERR_SUBMIT_THROTTLED', 3_000],
    [answer(503, 'ServiceUnavailable', 'the server is currently unable to handle the request'), 'CND_ERR_SUBMIT_TRANSIENT'],
    [answer(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', 2_000), 'CND_ERR_SUBMIT_TRANSIENT', 2_000],
    [answer(504, 'Timeout', 'the server was unable to return a response in the time allotted'), 'CND_ERR_SUBMIT_TRANSIENT'],
    [answer(500, 'InternalError', 'Internal error occurred: error fetching from git: unexpected EOF'), 'CND_ERR_SUBMIT_TRANSIENT'],
    [
      answer(
        500,
        'InternalError',
        'Internal error occurred: Operation cannot be fulfilled on packagerevisions.porch.kpt.dev "r.p.w": the object has been modified; please apply your changes to the latest version and try again',
      ),
      'CND_ERR_SUBMIT_TRANSIENT',
    ],
    [
      answer(
        409,
        'Conflict',
        'Operation cannot be fulfilled on packagerevisions.porch.kpt.dev "r.p.w": another request is already in progress on package revision "ns/r.p.w"',
      ),
      'CND_ERR_SUBMIT_TRANSIENT',
    ],
    [answer(500, 'InternalError', 'Internal error occurred: package "p" already exists in repository "r"'), 'CND_ERR_SUBMIT_TRANSIENT'],
    [
      answer(
        500,
        'InternalError',
        "Internal error occurred: error rendering package in kpt function pipeline. Package NOT pushed to remote. Fix locally (until 'kpt fn render' succeeds) and retry. Details: x",
      ),
      'CND_ERR_SUBMIT_PERMANENT',
    ],
    [
      answer(500, 'InternalError', 'package path "a/b" conflicts with existing package "a": packages cannot be nested'),
      'CND_ERR_SUBMIT_PERMANENT',
    ],
    [answer(401, 'Unauthorized', 'Unauthorized'), 'CND_ERR_SUBMIT_TRANSIENT'],
    [
      answer(
        403,
        'Forbidden',
        'packagerevisions.porch.kpt.dev is forbidden: User "system:serviceaccount:ns:conductor" cannot create resource "packagerevisions" in API group "porch.kpt.dev" in the namespace "ns"',
      ),
      'CND_ERR_SUBMIT_TRANSIENT',
    ],
    [
      answer(
        403,
        'Forbidden',
        'packagerevisions.porch.kpt.dev "r.p.w" is forbidden: published PackageRevisions must be proposed for deletion by setting spec.lifecycle to \'DeletionProposed\' prior to deletion',
      ),
      'CND_ERR_SUBMIT_PERMANENT',
    ],
    [answer(404, 'NotFound', 'repositories.config.porch.kpt.dev "r" not found'), 'CND_ERR_SUBMIT_PERMANENT'],
    [answer(404, 'NotFound', 'packagerevisions.porch.kpt.dev "r.p.w" not found'), 'CND_ERR_SUBMIT_TRANSIENT'],
    [answer(400, 'BadRequest', 'spec.repositoryName is required'), 'CND_ERR_SUBMIT_PERMANENT'],
    [answer(410, 'Gone', 'repository "r" is managed by v1alpha2; use the v1alpha2 API'), 'CND_ERR_SUBMIT_PERMANENT'],
    [answer(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 6291456'), 'CND_ERR_SUBMIT_PERMANENT'],
    [
      answer(422, 'Invalid', 'PackageRevision.porch.kpt.dev "" is invalid: spec.workspaceName: Invalid value: ""'),
      'CND_ERR_SUBMIT_PERMANENT',
    ],
  ];
  for (const [error, code, retryAfterMs] of cases) {
    const mapped = toSubmitError(error, where);
    assert.equal(mapped.code, code, `${error.status} ${error.serverMessage}`);
    assert.equal(mapped.retryAfterMs, retryAfterMs, `${error.status} retryAfterMs`);
    assert.equal(mapped.plugin, 'porch-sink');
    assert.equal(mapped.intentId, where.intentId);
    assert.ok(
      mapped.message.startsWith(`propose: PUT /apis/porch.kpt.dev/v1alpha1/namespaces/ns/packagerevisions/r.p.w answered ${error.status}`),
      mapped.message,
    );
    assert.ok(mapped.message.includes(error.serverMessage), 'the server’s own words are kept');
  }
});

test('the cases the flow resolves by reading again', () => {
  assert.ok(
    isStaleResourceVersion(
      answer(
        500,
        'InternalError',
        'Internal error occurred: Operation cannot be fulfilled on packagerevisionresources.porch.kpt.dev "x": the object has been modified; please apply your changes to the latest version and try again',
      ),
    ),
  );
  assert.ok(
    isStaleResourceVersion(answer(500, 'InternalError', 'Internal error occurred: resourceVersion must be specified for an update')),
  );
  assert.ok(!isStaleResourceVersion(answer(500, 'InternalError', 'Internal error occurred: error fetching from git')));
  assert.ok(
    isInFlight(
      answer(
        409,
        'Conflict',
        'Operation cannot be fulfilled on packagerevisions.porch.kpt.dev "(new creation)": another request is already in progress to create package revision with details namespace="ns"',
      ),
    ),
  );
  assert.ok(!isStaleResourceVersion(answer(409, 'Conflict', 'another request is already in progress on package revision "ns/x"')));
  assert.ok(
    isDuplicateWorkspace(
      answer(
        500,
        'InternalError',
        'Internal error occurred: package revision workspaceNames must be unique; package revision with name p in repo r with workspaceName w already exists',
      ),
    ),
  );
  assert.ok(
    isPackageExists(
      answer(
        500,
        'InternalError',
        '`clone` cannot create a new revision for package "p" that already exists in repo "r"; make subsequent revisions using `copy`',
      ),
    ),
  );
  assert.ok(isOutcomeUnknown(answer(504, 'Timeout', 'the server was unable to return a response in the time allotted')));
  const init = { code: undefined, method: 'POST' as const, path: '/x', cause: undefined };
  assert.ok(isOutcomeUnknown(new TransportError('connection-lost', 'socket hang up', init)));
  assert.ok(isOutcomeUnknown(new TransportError('timeout', 'no answer', init)));
  assert.ok(!isOutcomeUnknown(new TransportError('connect', 'ECONNREFUSED', init)), 'nothing was sent');
  assert.ok(!isOutcomeUnknown(new TransportError('tls', 'bad certificate', init)), 'nothing was sent');
  assert.equal(toSubmitError(new TransportError('aborted', 'cancelled', init), where).code, 'CND_ERR_SHUTDOWN');
});

test('kubeconfig: the named or current context, inline data decoded, relative paths from its directory', () => {
  const document = {
    'current-context': 'b',
    clusters: [
      { name: 'one', cluster: { server: 'https://one:6443', 'certificate-authority': 'ca/one.crt', 'tls-server-name': 'kubernetes' } },
      {
        name: 'two',
        cluster: {
          server: 'https://two:6443',
          'certificate-authority-data': Buffer.from('PEM TWO').toString('base64'),
          'insecure-skip-tls-verify': true,
        },
      },
    ],
    users: [
      { name: 'files', user: { tokenFile: '/var/token', 'client-certificate': 'c.crt', 'client-key': '/abs/c.key' } },
      { name: 'inline', user: { token: 'secret' } },
    ],
    contexts: [
      { name: 'a', context: { cluster: 'one', user: 'files', namespace: 'porch' } },
      { name: 'b', context: { cluster: 'two', user: 'inline' } },
    ],
  };
  assert.deepEqual(credentialsOf(document, '/home/me/.kube', 'cfg'), {
    server: 'https://two:6443',
    clusterName: 'two',
    ca: { data: 'PEM TWO' },
    insecureSkipTLSVerify: true,
    token: 'secret',
  });
  assert.deepEqual(credentialsOf(document, '/home/me/.kube', 'cfg', 'a'), {
    server: 'https://one:6443',
    clusterName: 'one',
    ca: { file: '/home/me/.kube/ca/one.crt' },
    insecureSkipTLSVerify: false,
    tlsServerName: 'kubernetes',
    tokenFile: '/var/token',
    clientCert: { file: '/home/me/.kube/c.crt' },
    clientKey: { file: '/abs/c.key' },
    namespace: 'porch',
  });
  assert.throws(() => credentialsOf(document, '/', 'cfg', 'c'), /kubeconfig cfg has no context named "c"/);
  assert.throws(
    () => credentialsOf({ ...document, 'current-context': undefined }, '/', 'cfg'),
    /has no current-context; set the "context" option/,
  );
  assert.throws(() => credentialsOf('just text', '/', 'cfg'), /is not a YAML mapping/);
  const basic = { ...document, users: [{ name: 'inline', user: { username: 'u', password: 'p' } }] };
  assert.throws(() => credentialsOf(basic, '/', 'cfg'), /basic authentication/);
});
