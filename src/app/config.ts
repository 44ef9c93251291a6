import { readCoreConfig, type CoreConfig } from '../config/core-config';
import type { Env } from '../config/parse';
import type { FeatureModule } from '../module';
import { modules } from './modules';

/** Every setting of the service: the core's and each module's, all read and validated at start. */
export interface Config extends CoreConfig {
  readonly features: ReadonlyMap<string, unknown>;
}

/**
 * The only function handed process.env. Reads the core settings, then each module's own; the first
 * bad value stops the start with a ConfigError naming the variable (main prints it as one line).
 */
export function loadConfig(env: Env = process.env): Config {
  const core = readCoreConfig(env);
  const features = new Map<string, unknown>();
  for (const module of modules) if (module.readConfig) features.set(module.name, module.readConfig(env, core));
  return { ...core, features };
}

/** A module's own settings, as its reader returned them. */
export function featureConfig<C>(config: Config, module: FeatureModule<C>): C {
  if (!config.features.has(module.name)) throw new Error(`module ${module.name} has no configuration`);
  return config.features.get(module.name) as C;
}
