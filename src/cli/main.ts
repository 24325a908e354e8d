/** The `ferry` command line. */
import { Command, Option } from 'commander';
import { CONFIG_ERROR_EXIT_CODE, ConfigError } from '../config/errors.js';
import { CONFIG_KEYS_HELP } from './config-help.js';
import { serve } from './serve.js';
import { addUser } from './user.js';
import { createCertificate } from './cert.js';
import { registerClientCommands } from './client-commands.js';
import { registerDoctorCommand } from './doctor.js';
import { packageVersion } from './version.js';

function fail(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`ferry: config error: ${error.message}\n`);
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

const user = program.command('user').description('manage users in a users file');
user
  .command('add <name>')
  .description('add or replace a user; the password is read from stdin when piped, else prompted')
  .requiredOption('--users <file>', 'users file (created if missing)')
  .option('--home <dir>', "the user's root folder (default: the server root)")
  .option('--read-only', 'list and download only')
  .action((name: string, options: { users: string; home?: string; readOnly?: boolean }) => addUser(name, options).catch(fail));

registerClientCommands(program);
registerDoctorCommand(program);

program.parseAsync(process.argv).catch(fail);
