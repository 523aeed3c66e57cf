// Turns anything thrown while serving a request into the contract's error body and status.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_STATUS, type ErrorCode } from '@messenger/protocol';
import type { ZodType } from 'zod';
import { AppError } from '../domain/errors.js';

export function parse<T>(schema: ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new AppError('invalid_request', `${where}${issue?.message ?? 'invalid request'}`);
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'message_too_big',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_VALIDATION: 'invalid_request',
};

export function sendError(
  reply: FastifyReply,
  code: ErrorCode,
  message: string,
  retryAfterSeconds?: number,
): FastifyReply {
  if (retryAfterSeconds !== undefined) reply.header('Retry-After', String(retryAfterSeconds));
  return reply.status(ERROR_STATUS[code]).send({ error: { code, message } });
}

export function errorHandler(
  error: FastifyError | AppError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof AppError) return sendError(reply, error.code, error.message, error.retryAfterSeconds);
  const fastifyError = error as FastifyError;
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped) return sendError(reply, mapped, fastifyError.message);
  const status = fastifyError.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    // Malformed JSON and other client mistakes Fastify catches before our handlers.
    const code =
      (Object.entries(ERROR_STATUS).find(([, s]) => s === status)?.[0] as ErrorCode | undefined) ?? 'invalid_request';
    return sendError(reply, code, fastifyError.message);
  }
  // Not the client's doing: a backing service failed. The contract's answer is a retryable 503.
  request.log.error({ err: error }, 'request failed');
  return sendError(reply, 'unavailable', 'the server could not complete the request; retry');
}
