// `conductor print-config`: the resolved config (defaults filled in, env interpolated), with
// secrets redacted.
import YAML from 'yaml';
import { EXIT } from '../exit-codes.ts';
import { parseCommand } from '../options.ts';
import { loadResolved } from '../setup.ts';
import { redactConfig } from '../../config/redact.ts';

export const PRINT_CONFIG_HELP = `conductor print-config [--config FILE] [--data-dir DIR] [--yaml]

Prints the resolved config as JSON (or YAML): defaults filled in, \${env:…} interpolated,
secrets replaced by "[redacted]".`;

export async function printConfigCommand(argv: string[]): Promise<number> {
  const { common, values } = parseCommand(argv, { yaml: { type: 'boolean' } });
  if (common.help) {
    console.log(PRINT_CONFIG_HELP);
    return EXIT.ok;
  }
  const { config } = await loadResolved(common);
  const modules = Object.fromEntries(Object.entries(config.modules).map(([k, v]) => [k, typeof v === 'string' ? v : `(inline plugin ${v.name})`]));
  const printable = redactConfig({ ...config, modules });
  console.log(values['yaml'] === true ? YAML.stringify(printable) : JSON.stringify(printable, null, 2));
  return EXIT.ok;
}
