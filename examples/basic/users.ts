/** The example's user directory: three users with scrypt-hashed passwords. */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

export interface User {
  id: string;
  username: string;
  role: 'user' | 'admin';
}

interface StoredUser extends User {
  salt: Buffer;
  hash: Buffer;
}

function hashPassword(password: string, salt: Buffer): Buffer {
  return scryptSync(password, salt, 32);
}

const seed: [User, string][] = [
  [{ id: '1', username: 'alice', role: 'user' }, 'alice-password'],
  [{ id: '2', username: 'bob', role: 'user' }, 'bob-password'],
  [{ id: '3', username: 'admin', role: 'admin' }, 'admin-password'],
];

const users: StoredUser[] = seed.map(([u, password]) => {
  const salt = randomBytes(16);
  return { ...u, salt, hash: hashPassword(password, salt) };
});

function publicUser(u: StoredUser): User {
  return { id: u.id, username: u.username, role: u.role };
}

export function findById(id: string): User | null {
  const u = users.find((x) => x.id === id);
  return u ? publicUser(u) : null;
}

export function checkPassword(username: string, password: string): User | null {
  const u = users.find((x) => x.username === username);
  // Hash even for unknown users so timing does not reveal which names exist.
  const hash = hashPassword(password, u?.salt ?? Buffer.alloc(16));
  return u && timingSafeEqual(hash, u.hash) ? publicUser(u) : null;
}

export function listUsers(): User[] {
  return users.map(publicUser);
}
