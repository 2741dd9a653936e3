/** The example's user directory: three users with scrypt-hashed passwords and an email address each. */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

export interface User {
  id: string;
  username: string;
  /** Where emailed sign-in codes and security notices go (the package reads `user.email`). */
  email: string;
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
  [{ id: '1', username: 'alice', email: 'alice@example.test', role: 'user' }, 'alice-password'],
  [{ id: '2', username: 'bob', email: 'bob@example.test', role: 'user' }, 'bob-password'],
  [{ id: '3', username: 'admin', email: 'admin@example.test', role: 'admin' }, 'admin-password'],
];

const users: StoredUser[] = seed.map(([u, password]) => {
  const salt = randomBytes(16);
  return { ...u, salt, hash: hashPassword(password, salt) };
});

function publicUser(u: StoredUser): User {
  return { id: u.id, username: u.username, email: u.email, role: u.role };
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
