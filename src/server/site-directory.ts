/**
 * The sites of one server, by host name: what HOST (RFC 7151) and the TLS server name
 * (SNI) choose from. A name no site claims gets the default site, as a web server's
 * default virtual host answers unknown Host headers.
 */
import { normalizeHostName } from '../protocol/address.js';
import type { SiteLookup } from './commands/types.js';
import type { Site } from './site.js';

export class SiteDirectory implements SiteLookup {
  private readonly byHost = new Map<string, Site>();
  private readonly byName = new Map<string, Site>();

  constructor(
    readonly defaultSite: Site,
    sites: readonly Site[] = [],
  ) {
    this.byName.set(defaultSite.name, defaultSite);
    for (const site of sites) {
      this.byName.set(site.name, site);
      for (const host of site.hosts) this.byHost.set(normalizeHostName(host), site);
    }
  }

  /** The site for a host name: the one that lists it, else the default. */
  forHost(name: string): Site {
    return this.byHost.get(normalizeHostName(name)) ?? this.defaultSite;
  }

  named(name: string): Site | undefined {
    return this.byName.get(name);
  }

  get all(): Site[] {
    return [...this.byName.values()];
  }
}
