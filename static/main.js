// main.js: index.html's module script. The one module that acts when
// loaded: it starts the console (app.js); every other module only defines.

import { start } from "./app.js";

start();
