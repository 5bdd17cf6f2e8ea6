import { ITerraformDependable, TerraformLocal, TerraformResource, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { SshEndpoint } from '../model/cluster';
import { InstallBundleParams, renderEscapedInstallBundle } from '../render/install-bundle';
import { SshAccess, sshConnection } from './ssh-connection';
import { NullResource } from './provisioning-fragment';
import { TerraformData } from './terraform-data';

export type ProvisioningResourceType = 'null_resource' | 'terraform_data';

export interface HostPushProps {
  readonly resourceType: ProvisioningResourceType;
  readonly host: SshEndpoint;
  readonly ssh: SshAccess;
  /** Files and follow-up commands; see render/install-bundle.ts. */
  readonly bundle: InstallBundleParams;
  /** Store the bundle once per stack (it is identical on many hosts). @default false */
  readonly shared?: boolean;
  /** Pushes that must be applied first. @default [] */
  readonly dependsOn?: readonly ITerraformDependable[];
  /**
   * Extra trigger values (e.g. the hash of a secret, as a Terraform expression) that re-run the push
   * when they change. @default {}
   */
  readonly extraTriggers?: Readonly<Record<string, string>>;
  /**
   * Secrets uploaded before the bundle runs: destination path on the host → Terraform expression of a
   * sensitive variable. They land in /root/.cias (mode 0700), never in the bundle. @default {}
   */
  readonly secrets?: Readonly<Record<string, string>>;
}

/**
 * Bundles that are byte-identical on many hosts (the scripts) are stored once per stack as a Terraform
 * local and referenced by every push: the configuration stays small however many nodes there are.
 */
function sharedBundleRef(scope: Construct, escapedText: string, hash: string): string {
  const stack = TerraformStack.of(scope);
  const id = `cias_bundle_${hash.slice(0, 16)}`;
  const local = (stack.node.tryFindChild(id) as TerraformLocal | undefined) ?? new TerraformLocal(stack, id, escapedText);
  return `\${local.${local.friendlyUniqueId}}`;
}

/** A rendered bundle as the configuration holds it: template-escaped, and the hash of its text. */
interface RenderedBundle {
  readonly escapedText: string;
  readonly hash: string;
}

/** Rendered bundles by their parameters: a bundle shared by many pushes is rendered and hashed once. */
const renderedBundles = new WeakMap<InstallBundleParams, RenderedBundle>();

/** Only the escaped text is kept: a gateway bundle of a full cluster is 43 MB, and one copy is enough. */
function renderedBundle(params: InstallBundleParams): RenderedBundle {
  let rendered = renderedBundles.get(params);
  if (rendered === undefined) {
    const { escapedText, sha256 } = renderEscapedInstallBundle(params);
    rendered = { escapedText, hash: sha256 };
    renderedBundles.set(params, rendered);
  }
  return rendered;
}

/** Where secrets land on a host; scripts read them from here. */
export const HOST_SECRET_DIR = '/root/.cias';

/**
 * One provisioning resource that uploads an install bundle over SSH and runs it. Its trigger is the
 * bundle's content hash, so an unchanged push never re-runs, and a changed one replaces only itself.
 */
export class HostPush extends Construct {
  readonly resource: TerraformResource;
  /** sha256 of the bundle script: the push's trigger. */
  readonly bundleHash: string;

  constructor(scope: Construct, id: string, props: HostPushProps) {
    super(scope, id);
    const { escapedText, hash } = renderedBundle(props.bundle);
    this.bundleHash = hash;
    const staged = `/tmp/cias-${props.bundle.name.replace(/[^A-Za-z0-9._-]/g, '_')}-${this.bundleHash.slice(0, 12)}.sh`;
    const secrets = Object.entries(props.secrets ?? {});
    const triggers: Record<string, string> = { bundle_sha256: this.bundleHash, ...props.extraTriggers };
    const provisioners = [
      ...(secrets.length > 0
        ? [{ type: 'remote-exec' as const, inline: [`install -d -m 0700 ${HOST_SECRET_DIR}`] }]
        : []),
      ...secrets.map(([destination, expression]) => ({ type: 'file' as const, content: expression, destination })),
      {
        type: 'file' as const,
        content: props.shared ? sharedBundleRef(this, escapedText, hash) : escapedText,
        destination: staged,
      },
      {
        type: 'remote-exec' as const,
        inline: [
          ...(secrets.length > 0 ? [`chmod 0600 ${secrets.map(([destination]) => destination).join(' ')}`] : []),
          `bash ${staged}`,
          `rm -f ${staged}`,
        ],
      },
    ];
    const common = {
      connection: sshConnection(props.host, props.ssh),
      provisioners,
      dependsOn: props.dependsOn ? [...props.dependsOn] : undefined,
    };
    this.resource =
      props.resourceType === 'terraform_data'
        ? new TerraformData(this, 'push', { ...common, triggersReplace: triggers })
        : new NullResource(this, 'push', { ...common, triggers });
  }
}
