import { TerraformResource, TerraformResourceConfig } from 'cdktf';
import { Construct } from 'constructs';
import { DependencyRecord, lazyDependsOn, provisioningFragment } from './provisioning-fragment';

export interface TerraformDataConfig
  extends Omit<TerraformResourceConfig, 'terraformResourceType' | 'terraformGeneratorMetadata'> {
  /** Stored in state; changes do not replace the resource. @default none */
  readonly input?: Record<string, unknown>;
  /** A change replaces the resource (and re-runs its provisioners). @default none */
  readonly triggersReplace?: Record<string, unknown>;
}

/**
 * Terraform's built-in `terraform_data`. cdktf's own DataResource shells out to `terraform version`
 * for every instance during validation (about 40 ms each), which dominates synth time for large
 * clusters; this binding is the same resource without that check (cias requires Terraform ≥ 1.4).
 */
export class TerraformData extends TerraformResource {
  static readonly tfResourceType = 'terraform_data';

  private readonly input?: Record<string, unknown>;
  private readonly triggersReplace?: Record<string, unknown>;

  constructor(scope: Construct, id: string, config: TerraformDataConfig = {}) {
    super(scope, id, {
      ...config,
      dependsOn: undefined,
      terraformResourceType: TerraformData.tfResourceType,
      terraformGeneratorMetadata: { providerName: 'terraform' },
    });
    this.input = config.input;
    this.triggersReplace = config.triggersReplace;
    this.dependencyRecord = lazyDependsOn(this, config.dependsOn);
  }

  private readonly dependencyRecord: DependencyRecord;

  /** See provisioningFragment: cdktf's generic synthesis only when the fast one cannot reproduce it. */
  toTerraform(): any {
    return provisioningFragment(this, this.synthesizeAttributes(), this.dependencyRecord, this.constructNodeMetadata) ?? super.toTerraform();
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return { input: this.input, triggers_replace: this.triggersReplace };
  }
}
