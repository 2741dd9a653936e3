/**
 * A user's two-factor state: `active` once an authenticator is confirmed;
 * `pending` while policy requires 2FA and none is confirmed yet; else `none`.
 */
export type TwoFactorState = 'none' | 'pending' | 'active';

export function twoFactorState(hasDevice: boolean, required: boolean): TwoFactorState {
  if (hasDevice) return 'active';
  return required ? 'pending' : 'none';
}
