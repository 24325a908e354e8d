/** The `ferry` command line. */
import { Command, Option } from 'commander';
import { CONFIG_ERROR_EXIT_CODE, ConfigError } from '../config/errors.js';
import { CONFIG_KEYS_HELP } from './config-help.js';
import { serve } from './serve.js';
import { PERMISSIONS } from '../auth/permissions.js';
import { TLS_MODES } from '../config/schema.js';
import { addUser, changePassword, listUsers, removeUser, setUser, type UsersFileFlags } from './user.js';
import { SETTINGS, type SettingFlags } from './user-settings.js';
import { UsageError } from './remote.js';
import { createCertificate } from './cert.js';
import { registerClientCommands } from './client-commands.js';
import { registerDoctorCommand } from './doctor.js';
import { packageVersion } from './version.js';

function fail(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`ferry: config error: ${error.message}\n`);
    process.exit(CONFIG_ERROR_EXIT_CODE);
  }
  // A bad flag value (ferry user's, say): the same status as commander's own usage errors.
  if (error instanceof UsageError) {
    process.stderr.write(`ferry: ${error.message}\n`);
    process.exit(CONFIG_ERROR_EXIT_CODE);
  }
  process.stderr.write(`ferry: ${(error as Error).message}\n`);
  process.exit(1);
}

const program = new Command('ferry').description('Ferry: FTP/FTPS server and client').version(packageVersion(), '-V, --version').showHelpAfterError();

// Before any subcommand is added, so every one inherits it: a usage error (unknown
// option, missing argument, too many arguments) exits 2, as the README promises.
program.exitOverride((error) => {
  process.exit(error.exitCode === 0 ? 0 : CONFIG_ERROR_EXIT_CODE);
});

program
  .command('serve')
  .description('run the FTP server (no config needed: serves ./ftp-root on port 2121)')
  .option('--config <file>', 'TOML config file')
  .option('--host <addr>', 'listen address (config: host)')
  .option('--port <n>', 'control port, 0 for any free port (config: port)')
  .option('--root <dir>', 'folder to serve (config: root)')
  .option('--passive-ports <min-max>', 'passive port range (config: passive.ports)')
  .option('--masquerade <address>', 'address advertised in PASV replies, IP or host name (config: passive.address)')
  .option('--users <file>', 'users file made by `ferry user add` (config: users_file)')
  .option('--anonymous', 'allow anonymous read-only login (config: anonymous.enabled)')
  .addOption(new Option('--log-format <format>', 'log format on stderr (config: log.format)').choices(['text', 'json']))
  .addOption(new Option('--log-level <level>', 'log level; debug shows every command and reply (config: log.level)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
  .addOption(new Option('--tls <mode>', 'TLS policy (config: tls.mode; default "required" when a certificate is set)').choices(['off', 'optional', 'login', 'required']))
  .option('--tls-cert <file>', 'PEM certificate chain (config: tls.cert)')
  .option('--tls-key <file>', 'PEM private key (config: tls.key)')
  .option('--implicit-port <n>', 'implicit FTPS port (config: tls.implicit_port)')
  .option('--admin-listen <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics, e.g. 127.0.0.1:9464 (config: admin.listen)')
  .option('--check', 'print the start-up checks (passive address, NAT, ports, bounce protection, TLS) and exit; status 2 on an error')
  .option('--allow-unresolved-passive-address', 'start even when passive.address names a host that does not resolve')
  .addHelpText('after', CONFIG_KEYS_HELP)
  .action((flags) => serve(flags).catch(fail));

program
  .command('cert')
  .description('write a self-signed certificate (cert.pem, key.pem) for testing FTPS')
  .requiredOption('--out <dir>', 'folder to write cert.pem and key.pem into')
  .option('--name <host>', 'host name the certificate is for', 'localhost')
  .option('--days <n>', 'validity in days', '365')
  .action((options: { out: string; name: string; days: string }) => createCertificate(options).catch(fail));

const user = program.command('user').description('manage users in a users file (add, passwd, set, remove, list)');
const USERS_FILE_HELP = 'users file (mode 0600; the server re-reads it when it changes)';

/** The settings `user add` and `user set` share. */
function withSettingOptions(command: Command): Command {
  return command
    .option('--home <dir>', "the user's root folder, created if missing (default: the server root)")
    .option('--read-only', 'list and download only (permissions list,read)')
    .option('--permissions <list>', `comma list of ${PERMISSIONS.join(',')} (default: all)`)
    .addOption(new Option('--tls <mode>', "TLS policy for this user, over the server's tls.mode").choices(TLS_MODES))
    .option('--charset <name>', "file names on the wire once this user has logged in, e.g. gbk (over the server's charset)")
    .option('--quota-bytes <size>', 'most bytes stored under the home, e.g. 500M, 1.5G (0 = no limit)')
    .option('--quota-files <n>', 'most files stored under the home (0 = no limit)')
    .option('--upload-rate <rate>', 'bytes per second for all uploads together, e.g. 500K (0 = no limit)')
    .option('--download-rate <rate>', 'bytes per second for all downloads together, e.g. 2M (0 = no limit)')
    .option('--max-sessions <n>', 'most sessions logged in at once (0 = no limit)')
    .option('--unset <keys>', `remove settings, comma list of ${SETTINGS.join(',')}, so the server's defaults ([user_defaults] for limits) apply again; repeatable`, collect)
    .addHelpText(
      'after',
      '\nSizes and rates are bytes, or with K, M or G (powers of 1024): 500K, 10M, 1.5G.\n' +
        'A limit of 0 means no limit for this user, whatever [user_defaults] says; --unset quota_bytes falls back to it.\n' +
        'read_only and permissions are one setting: --read-only drops permissions, --permissions drops read_only, and\n' +
        '--unset of either gives all permissions.',
    );
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

withSettingOptions(
  user
    .command('add <name>')
    .description('add a user, or replace an existing one\'s password keeping its settings (but those the flags change); the password is read from stdin when piped, else prompted')
    .requiredOption('--users <file>', `${USERS_FILE_HELP}, created if missing`),
).action((name: string, options: UsersFileFlags & SettingFlags) => addUser(name, options).catch(fail));

user
  .command('passwd <name>')
  .description("replace an existing user's password, nothing else; read from stdin when piped, else prompted")
  .requiredOption('--users <file>', USERS_FILE_HELP)
  .action((name: string, options: UsersFileFlags) => changePassword(name, options).catch(fail));

withSettingOptions(
  user
    .command('set <name>')
    .description("change an existing user's settings; the password and the settings no flag names stay as they are")
    .requiredOption('--users <file>', USERS_FILE_HELP),
).action((name: string, options: UsersFileFlags & SettingFlags) => setUser(name, options).catch(fail));

user
  .command('remove <name>')
  .description('remove a user')
  .requiredOption('--users <file>', USERS_FILE_HELP)
  .action((name: string, options: UsersFileFlags) => removeUser(name, options).catch(fail));

user
  .command('list')
  .description('print one user per line, by name: the name, then its settings as key=value (never the password hash)')
  .requiredOption('--users <file>', USERS_FILE_HELP)
  .action((options: UsersFileFlags) => listUsers(options).catch(fail));

registerClientCommands(program);
registerDoctorCommand(program);

program.parseAsync(process.argv).catch(fail);
