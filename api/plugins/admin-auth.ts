/** Bearer-token guard for admin routes (constant-time comparison). */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ErrorCode } from '../../domain/errors';

export function requireAdmin(token: string) {
  const expected = Buffer.from(`Bearer ${token}`);
  return async function adminGuard(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new DomainError(ErrorCode.UNAUTHORIZED, 'admin routes need "Authorization: Bearer <ADMIN_TOKEN>"');
    }
  };
}
