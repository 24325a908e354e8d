/** The sites `ferry serve` runs, built from a config: at start, and again at each reload. */
import type { Logger } from 'pino';
import type { FerryConfig, SiteDefinition } from '../config/schema.js';
import { createSite, type Site } from '../server/site.js';
import type { SiteUserSource, SiteUsers } from './site-users.js';

export interface ServedSites {
  /** The top level's users and storage (the default site is built by the server from them). */
  main: SiteUsers;
  /** The [sites.NAME] virtual hosts. */
  named: { definition: SiteDefinition; users: SiteUsers }[];
  sites: Site[];
  /** Every site's config with its users, the default first. */
  every: { config: FerryConfig; users: SiteUsers }[];
}

export async function buildSites(config: FerryConfig, users: SiteUserSource, logger: Logger): Promise<ServedSites> {
  const main = await users.forSite(config);
  const named = await Promise.all(config.sites.map(async (definition) => ({ definition, users: await users.forSite(definition.config) })));
  const sites = named.map(({ definition, users: siteUsers }) =>
    createSite({ name: definition.name, hosts: definition.hosts, config: definition.config, authenticator: siteUsers.authenticator, logger, ...siteUsers.storage }),
  );
  const every = [{ config, users: main }, ...named.map(({ definition, users: siteUsers }) => ({ config: definition.config, users: siteUsers }))];
  return { main, named, sites, every };
}
