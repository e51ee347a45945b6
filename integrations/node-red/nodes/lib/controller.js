// The conplyent controller library is ESM; Node-RED loads nodes as CommonJS, so it comes in through
// import(). Installed from npm it is the `conplyent` dependency; inside the conplyent repository
// (tests, development) it is the repository's own build.
'use strict';
const path = require('node:path');
const { pathToFileURL } = require('node:url');

let loading;

function loadController() {
  loading ??= import('conplyent').catch(() =>
    import(pathToFileURL(path.join(__dirname, '..', '..', '..', '..', 'dist', 'controller', 'index.js')).href),
  );
  return loading;
}

module.exports = { loadController };
