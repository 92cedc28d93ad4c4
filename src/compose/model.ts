/** A compose file as the export needs it: services with their image, build and profiles. */
export interface ComposeBuild {
  /** Absolute path of the build context. */
  context: string;
  /** Dockerfile path relative to the context. */
  dockerfile: string;
  args: Record<string, string>;
  target?: string;
}

export interface ComposeService {
  name: string;
  image?: string;
  build?: ComposeBuild;
  profiles: string[];
  healthcheck: boolean;
  platform?: string;
}

export interface ComposeProject {
  /** Absolute path of the compose file. */
  file: string;
  /** Which tool read it: "docker compose 2.x", "docker-compose 1.29.2", or "yaml (no compose tool)". */
  tool: string;
  /** Every profile any service declares. */
  allProfiles: string[];
  /** The profiles the plan includes (all of them unless narrowed). */
  profiles: string[];
  /** The services of the included profiles (and every service without a profile). */
  services: ComposeService[];
}
