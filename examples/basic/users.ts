/** The example's user directory: three users with scrypt-hashed passwords and an email address each. */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

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

/**
 * scrypt's cost parameter N for the example's password hashes: Node's
 * default, 2^14 (16 MiB and about 50 ms of one core per check). The tests
 * pass a lower one (`passwordCost`), so their CPU goes to what they test.
 */
export const DEFAULT_PASSWORD_COST = 2 ** 14;

const HASH_BYTES = 32;

const seed: [User, string][] = [
  [{ id: '1', username: 'alice', email: 'alice@example.test', role: 'user' }, 'alice-password'],
  [{ id: '2', username: 'bob', email: 'bob@example.test', role: 'user' }, 'bob-password'],
  [{ id: '3', username: 'admin', email: 'admin@example.test', role: 'admin' }, 'admin-password'],
];

export interface UserDirectory {
  findById(id: string): User | null;
  /** The user when the password is theirs. Hashes off the event loop (libuv's pool), as a server must. */
  checkPassword(username: string, password: string): Promise<User | null>;
  listUsers(): User[];
}

function publicUser(u: StoredUser): User {
  return { id: u.id, username: u.username, email: u.email, role: u.role };
}

function hashPassword(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, HASH_BYTES, { N: cost }, (err, hash) => (err ? reject(err) : resolve(hash)));
  });
}

function createDirectory(cost: number): UserDirectory {
  const users: StoredUser[] = seed.map(([u, password]) => {
    const salt = randomBytes(16);
    return { ...u, salt, hash: scryptSync(password, salt, HASH_BYTES, { N: cost }) };
  });
  return {
    findById(id) {
      const u = users.find((x) => x.id === id);
      return u ? publicUser(u) : null;
    },
    async checkPassword(username, password) {
      const u = users.find((x) => x.username === username);
      // Hash even for unknown users so timing does not reveal which names exist.
      const hash = await hashPassword(password, u?.salt ?? Buffer.alloc(16), cost);
      return u && timingSafeEqual(hash, u.hash) ? publicUser(u) : null;
    },
    listUsers: () => users.map(publicUser),
  };
}

const directories = new Map<number, UserDirectory>();

/** The directory whose hashes use scrypt cost `cost` (a power of two); one per cost per process. */
export function userDirectory(cost: number = DEFAULT_PASSWORD_COST): UserDirectory {
  let d = directories.get(cost);
  if (!d) {
    d = createDirectory(cost);
    directories.set(cost, d);
  }
  return d;
}
