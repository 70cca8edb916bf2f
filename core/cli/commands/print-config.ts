// `conductor print-config`: the resolved config (defaults filled in, env interpolated), with
// secrets redacted.
import YAML from 'yaml';
import { EXIT } from '../exit-codes.ts';
import { parseCommand } from '../options.ts';
import { configWarnings, loadResolved } from '../setup.ts';
import { redactConfig } from '../../config/redact.ts';

export const PRINT_CONFIG_HELP = `conductor print-config [--config FILE] [--data-dir DIR] [--yaml]

Prints the resolved config as JSON (or YAML): defaults filled in, \${env:…} interpolated,
secrets replaced by "[redacted]". Settings that weaken security (such as a TLS check turned off
in a kubeconfig) are listed on stderr as "warning: <plugin>: …".`;

export async function printConfigCommand(argv: string[]): Promise<number> {
  const { common, values } = parseCommand(argv, { yaml: { type: 'boolean' } });
  if (common.help) {
    console.log(PRINT_CONFIG_HELP);
    return EXIT.ok;
  }
  const resolved = await loadResolved(common);
  const { config } = resolved;
  const modules = Object.fromEntries(
    Object.entries(config.modules).map(([k, v]) => [k, typeof v === 'string' ? v : `(inline plugin ${v.name})`]),
  );
  const printable = redactConfig({ ...config, modules });
  console.log(values['yaml'] === true ? YAML.stringify(printable) : JSON.stringify(printable, null, 2));
  // On stderr, so that the printed config stays what it is.
  for (const { plugin, warning } of configWarnings(resolved)) console.error(`warning: ${plugin}: ${warning}`);
  return EXIT.ok;
}
