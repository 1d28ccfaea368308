import { join } from "node:path";
import { STAGING_SUFFIX } from "./names.js";

export const VERSIONS_DIR = "versions";
export const CURRENT_LINK = "current";
export const CURRENT_TEMP_LINK = ".current.tmp";
export const MANIFEST_NAME = "manifest.json";
export const LOCK_DIR = ".lock";
export const LOCK_OWNER_FILE = ".lock-owner.json";
export const TRASH_DIR = ".trash";
/** Staging folders are assembled under this hidden prefix, then renamed to `<version>.tmp`. */
export const CLAIM_PREFIX = ".claim-";

/** Where everything of one agent lives; names are validated before one of these is built. */
export class AgentPaths {
  readonly agentDir: string;
  readonly versionsDir: string;
  readonly currentLink: string;
  readonly currentTempLink: string;
  readonly lockDir: string;
  readonly lockOwnerFile: string;
  readonly trashDir: string;

  constructor(
    readonly root: string,
    readonly agent: string,
  ) {
    this.agentDir = join(root, agent);
    this.versionsDir = join(this.agentDir, VERSIONS_DIR);
    this.currentLink = join(this.agentDir, CURRENT_LINK);
    this.currentTempLink = join(this.agentDir, CURRENT_TEMP_LINK);
    this.lockDir = join(this.agentDir, LOCK_DIR);
    this.lockOwnerFile = join(this.agentDir, LOCK_OWNER_FILE);
    this.trashDir = join(this.agentDir, TRASH_DIR);
  }

  versionDir(version: string): string {
    return join(this.versionsDir, version);
  }

  stagingDir(version: string): string {
    return join(this.versionsDir, `${version}${STAGING_SUFFIX}`);
  }

  /** The relative target JustNewsAgent writes into `current`. */
  currentTarget(version: string): string {
    return `${VERSIONS_DIR}/${version}`;
  }
}
