// Uploads: POST /v1/uploads takes the raw body as a stream (not under the JSON body limit), and
// GET /v1/uploads/:id/content|thumbnail serve it, signed or with a Bearer credential, by range.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as P from '@messenger/protocol';
import { AppError } from '../domain/errors.js';
import type { Access, Media } from '../core/media/media.js';
import { parseRange } from '../core/media/ranges.js';
import type { Variant } from '../core/media/signed-urls.js';
import type { Authenticator } from '../core/users/authenticator.js';
import { identify } from './auth.js';
import { parse } from './errors.js';

export interface UploadRouteDeps {
  media: Media;
  authenticator: Authenticator;
  maxUploadBytes: number;
}

/** Shown inline; anything else downloads as an attachment (an HTML or SVG file never renders here). */
const INLINE = /^(image\/(jpeg|png|webp|gif)|audio\/[a-z0-9.+-]+|video\/[a-z0-9.+-]+)$/;

export function registerUploadRoutes(app: FastifyInstance, deps: UploadRouteDeps): void {
  const { media, authenticator } = deps;

  // A scope of its own: here, and only here, the body is not parsed but handed over as a stream.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

    scope.post('/v1/uploads', async (req, reply): Promise<P.UploadResponse> => {
      const who = await identify(authenticator, req);
      const length = Number(req.headers['content-length']);
      if (Number.isFinite(length) && length > deps.maxUploadBytes) {
        // Refused before a byte is read; the connection closes so the rest of the body is not read either.
        reply.header('connection', 'close');
        throw new AppError('message_too_big', `the upload is over ${deps.maxUploadBytes} bytes`);
      }
      const declared = req.headers['content-type'];
      try {
        const upload = await media.upload(who.user.id, req.raw, {
          ...(declared ? { declaredType: declared } : {}),
          ...(filenameOf(req) !== undefined ? { filename: filenameOf(req) } : {}),
        });
        reply.status(201);
        return { upload };
      } catch (error) {
        // The body was not read to its end: it must not be taken for the next request.
        if (!req.raw.readableEnded) reply.header('connection', 'close');
        throw error;
      }
    });
  });

  const serve = (variant: Variant) => async (req: FastifyRequest, reply: FastifyReply) => {
    const id = parse(P.id, (req.params as { id: string }).id);
    const query = req.query as { exp?: unknown; sig?: unknown };
    let access: Access;
    if (query.sig !== undefined || query.exp !== undefined) {
      access = { exp: String(query.exp ?? ''), sig: String(query.sig ?? '') };
    } else {
      access = { userId: (await identify(authenticator, req)).user.id };
    }
    const file = await media.file(id, variant, access);
    const range = parseRange(req.headers.range, file.size);
    reply.headers({ 'accept-ranges': 'bytes', 'x-content-type-options': 'nosniff' });
    if (range === 'unsatisfiable') {
      reply.header('content-range', `bytes */${file.size}`);
      return reply.status(416).send({ error: { code: 'invalid_request', message: 'the range is outside the file' } });
    }
    reply.headers({
      'content-type': file.contentType,
      'content-security-policy': 'sandbox',
      'cache-control': 'private, max-age=3600',
      'content-disposition': disposition(file.contentType, file.name),
    });
    const body = await media.open(file, range);
    if (range) {
      reply.status(206);
      reply.header('content-range', `bytes ${range.start}-${range.end}/${file.size}`);
      reply.header('content-length', String(range.end - range.start + 1));
    } else {
      reply.header('content-length', String(file.size));
    }
    return reply.send(body);
  };
  // The app's HTML headers must not replace the sandbox on a download (an uploaded .html file).
  const keepSandbox = async (_req: FastifyRequest, reply: FastifyReply) => {
    reply.header('content-security-policy', 'sandbox');
  };
  app.get('/v1/uploads/:id/content', { onSend: keepSandbox }, serve('content'));
  app.get('/v1/uploads/:id/thumbnail', { onSend: keepSandbox }, serve('thumbnail'));
}

function filenameOf(req: FastifyRequest): string | undefined {
  const raw = req.headers['x-filename'];
  if (typeof raw !== 'string') return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new AppError('invalid_request', 'X-Filename must be percent-encoded UTF-8');
  }
}

function disposition(type: string, name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const utf8 = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${INLINE.test(type) ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}
