import { HttpBackend, LocalBackend, S3Backend, S3BackendConfig, TerraformBackend, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { join } from 'path';
import { StateBackend } from '../model/cluster';

/**
 * The pg backend with the connection string left out of the configuration: terraform then reads
 * PG_CONN_STR from the environment. cdktf's PgBackend requires conn_str, which would put a credential
 * into cdktf.out.
 */
class EnvironmentPgBackend extends TerraformBackend {
  constructor(
    scope: Construct,
    private readonly schemaName: string,
  ) {
    super(scope, 'backend', 'pg');
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return { schema_name: this.schemaName };
  }

  getRemoteStateDataSource(): never {
    throw new Error('cias stacks do not read each other’s state');
  }
}

/** One state per stack, with locking, no credentials in the configuration. */
export function configureBackend(stack: TerraformStack, stackName: string, state: StateBackend, projectDir: string): void {
  switch (state.backend) {
    case 'local':
      new LocalBackend(stack, { path: join(projectDir, state.directory, `terraform.${stackName}.tfstate`) });
      return;
    case 'pg':
      new EnvironmentPgBackend(stack, `${state.schemaPrefix}_${stackName.replace(/[^a-z0-9_]/g, '_')}`);
      return;
    case 's3':
      // use_lockfile (S3-native locking, Terraform ≥ 1.10) is newer than cdktf's typings.
      const config: S3BackendConfig & { useLockfile?: boolean } = {
        bucket: state.bucket,
        key: `${state.keyPrefix}/${stackName}.tfstate`,
        region: state.region,
        encrypt: true,
        ...(state.dynamodbTable ? { dynamodbTable: state.dynamodbTable } : { useLockfile: true }),
        ...(state.endpoint ? { endpoints: { s3: state.endpoint }, usePathStyle: true } : {}),
      };
      new S3Backend(stack, config);
      return;
    case 'http': {
      const address = `${state.address}/${stackName}`;
      new HttpBackend(stack, { address, lockAddress: address, unlockAddress: address });
      return;
    }
  }
}
