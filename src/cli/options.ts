/**
 * The option kinds of the CLI commands' `node:util` parseArgs tables (a string value, a flag, `--help`/`-h`), so each
 * command's table lists its option names grouped by topic, one short line a group.
 * @module
 */
export const STR = { type: 'string' } as const;
export const FLAG = { type: 'boolean' } as const;
export const HELP_FLAG = { type: 'boolean', short: 'h' } as const;
