/** A configuration problem: names the key, and the CLI exits with status 2. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly key?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const CONFIG_ERROR_EXIT_CODE = 2;
