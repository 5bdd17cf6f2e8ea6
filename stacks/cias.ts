import { App, TerraformStack } from 'cdktf';
import { ClusterModel } from '../model/cluster';
import { configureBackend } from './backend';
import { HostsStack } from './hosts-stack';

export interface CiasStacks {
  readonly hosts: HostsStack;
}

export interface BuildOptions {
  /** Base directory for local state files. @default process.cwd() */
  readonly projectDir?: string;
}

/** Every stack of one cluster, each with its own state in the configured backend. */
export function buildCias(app: App, model: ClusterModel, options: BuildOptions = {}): CiasStacks {
  const hosts = new HostsStack(app, model);
  for (const child of app.node.children) {
    if (TerraformStack.isStack(child)) {
      configureBackend(child, child.node.id, model.state, options.projectDir ?? process.cwd());
    }
  }
  return { hosts };
}
