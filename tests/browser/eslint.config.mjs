// ESLint over the UI's modules (static/*.js) and the tests' JavaScript:
// a name used but never defined, an import that does not exist, code that
// cannot run. Run by tests/browser/lint (make check-browser, which installs
// ESLint with the browser tests' npm packages).
import js from "@eslint/js";
import globals from "globals";

export default [
    js.configs.recommended,
    { rules: { "no-unused-vars": ["error", { args: "none", caughtErrors: "none" }] } },
    {
        files: ["static/**/*.js"],
        languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.browser } },
    },
    {
        files: ["tests/**/*.mjs", "tests/**/*.js", "bench/**/*.mjs", "templates/**/*.mjs"],
        languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.node, ...globals.browser } },
    },
];
