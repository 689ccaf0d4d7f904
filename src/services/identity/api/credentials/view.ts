import type { Credential, Ec2Credential } from '../../managers/credentials.js';

export function renderCredential(v3Url: string, credential: Credential): Record<string, unknown> {
  return {
    ...credential.extra,
    id: credential.id,
    user_id: credential.userId,
    project_id: credential.projectId,
    type: credential.type,
    blob: credential.blob,
    links: { self: `${v3Url}/credentials/${credential.id}` },
  };
}

/** OS-EC2's legacy shape: the project is `tenant_id`, the access key names the resource. */
export function renderEc2Credential(v3Url: string, credential: Ec2Credential): Record<string, unknown> {
  return {
    user_id: credential.userId,
    tenant_id: credential.projectId,
    access: credential.access,
    secret: credential.secret,
    trust_id: credential.trustId,
    links: { self: `${v3Url}/users/${credential.userId}/credentials/OS-EC2/${credential.access}` },
  };
}
