// Guards every npm script against running on an older system Node: the repository brings
// Node 24 through the `node` devDependency, which npm puts first on PATH.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `Node >= 24 required, got ${process.version} (${process.execPath}). ` +
      'Run `npm ci` so the `node` devDependency installs, and keep package.json allowScripts "node": true.',
  );
  process.exit(1);
}
