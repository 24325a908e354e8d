import { renderConfigReference } from '../config/reference.js';

/** The config-file reference shown by `ferry serve --help`, generated from the schema (as the README's is). */
export const CONFIG_KEYS_HELP = `
Config file (TOML, --config FILE); flags override it. Paths are relative to the file.
${renderConfigReference('help')}
A bad key or value prints its name and exits with status 2.
`;
