import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalRequestV4,
  chunkStringToSign,
  EMPTY_SHA256,
  parseAuthorizationV4,
  sha256Hex,
  signingKeyV4,
  signV2,
  signV4,
  stringToSignV2,
  stringToSignV4,
  UNSIGNED_PAYLOAD,
  type SignableRequest,
} from './sigv4.js';

// The examples of AWS's "Signature Calculations for the Authorization Header" and
// "Authenticating Requests: Using Query Parameters" pages of the S3 API reference.
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const DATE = '20130524T000000Z';
const SCOPE = '20130524/us-east-1/s3/aws4_request';
const KEY = signingKeyV4(SECRET, '20130524', 'us-east-1', 's3');

function sign(req: SignableRequest, signed: string[], payload: string): string {
  return signV4(KEY, stringToSignV4(DATE, SCOPE, canonicalRequestV4(req, signed, payload)));
}

test('GET object with a Range header', () => {
  const req: SignableRequest = {
    method: 'GET',
    rawPath: '/test.txt',
    query: [],
    headers: { host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': DATE },
  };
  assert.equal(sign(req, ['host', 'range', 'x-amz-content-sha256', 'x-amz-date'], EMPTY_SHA256), 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
});

test('PUT object: the path is re-encoded ($ -> %24)', () => {
  const payload = sha256Hex('Welcome to Amazon S3.');
  assert.equal(payload, '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072');
  const req: SignableRequest = {
    method: 'PUT',
    rawPath: '/test$file.text',
    query: [],
    headers: {
      date: 'Fri, 24 May 2013 00:00:00 GMT',
      host: 'examplebucket.s3.amazonaws.com',
      'x-amz-content-sha256': payload,
      'x-amz-date': DATE,
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    },
  };
  assert.equal(sign(req, ['date', 'host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-storage-class'], payload), '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd');
});

test('GET bucket lifecycle: a value-less sub-resource becomes "lifecycle="', () => {
  const req: SignableRequest = { method: 'GET', rawPath: '/', query: [['lifecycle', '']], headers: { host: 'examplebucket.s3.amazonaws.com', 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': DATE } };
  assert.equal(sign(req, ['host', 'x-amz-content-sha256', 'x-amz-date'], EMPTY_SHA256), 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543');
});

test('list objects: query parameters are sorted', () => {
  const req: SignableRequest = {
    method: 'GET',
    rawPath: '/',
    query: [['prefix', 'J'], ['max-keys', '2']],
    headers: { host: 'examplebucket.s3.amazonaws.com', 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': DATE },
  };
  assert.equal(sign(req, ['host', 'x-amz-content-sha256', 'x-amz-date'], EMPTY_SHA256), '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
});

test('presigned URL: X-Amz-Signature is left out, payload is UNSIGNED-PAYLOAD', () => {
  const req: SignableRequest = {
    method: 'GET',
    rawPath: '/test.txt',
    query: [
      ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
      ['X-Amz-Credential', `AKIAIOSFODNN7EXAMPLE/${SCOPE}`],
      ['X-Amz-Date', DATE],
      ['X-Amz-Expires', '86400'],
      ['X-Amz-SignedHeaders', 'host'],
      ['X-Amz-Signature', 'ignored'],
    ],
    headers: { host: 'examplebucket.s3.amazonaws.com' },
  };
  assert.equal(sign(req, ['host'], UNSIGNED_PAYLOAD), 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404');
});

test('aws-chunked upload: seed and chunk signatures chain', () => {
  const req: SignableRequest = {
    method: 'PUT',
    rawPath: '/examplebucket/chunkObject.txt',
    query: [],
    headers: {
      'content-encoding': 'aws-chunked',
      'content-length': '66824',
      host: 's3.amazonaws.com',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'x-amz-date': DATE,
      'x-amz-decoded-content-length': '66560',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    },
  };
  const seed = sign(req, ['content-encoding', 'content-length', 'host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-decoded-content-length', 'x-amz-storage-class'], 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  assert.equal(seed, '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9');
  const c1 = signV4(KEY, chunkStringToSign(DATE, SCOPE, seed, sha256Hex(Buffer.alloc(65536, 'a'))));
  assert.equal(c1, 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648');
  const c2 = signV4(KEY, chunkStringToSign(DATE, SCOPE, c1, sha256Hex(Buffer.alloc(1024, 'a'))));
  assert.equal(c2, '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497');
  const last = signV4(KEY, chunkStringToSign(DATE, SCOPE, c2, EMPTY_SHA256));
  assert.equal(last, 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9');
});

test('the generic SigV4 suite: get-vanilla', () => {
  const key = signingKeyV4('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20150830', 'us-east-1', 'service');
  const req: SignableRequest = { method: 'GET', rawPath: '/', query: [], headers: { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z' } };
  const sts = stringToSignV4('20150830T123600Z', '20150830/us-east-1/service/aws4_request', canonicalRequestV4(req, ['host', 'x-amz-date'], EMPTY_SHA256));
  assert.equal(signV4(key, sts), '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
});

test('Authorization header parsing', () => {
  const p = parseAuthorizationV4(`AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/${SCOPE},SignedHeaders=host;range;x-amz-date, Signature=abc`);
  assert.deepEqual(p, { access: 'AKIAIOSFODNN7EXAMPLE', date: '20130524', region: 'us-east-1', service: 's3', signedHeaders: ['host', 'range', 'x-amz-date'], signature: 'abc' });
  assert.throws(() => parseAuthorizationV4('AWS4-HMAC-SHA256 Credential=AK/2013/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x'));
  assert.throws(() => parseAuthorizationV4('AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request'));
});

test('Signature V2: the REST authentication example', () => {
  const req: SignableRequest = { method: 'GET', rawPath: '/photos/puppy.jpg', query: [], headers: { host: 'johnsmith.s3.amazonaws.com', date: 'Tue, 27 Mar 2007 19:36:42 +0000' } };
  const sts = stringToSignV2(req, '/johnsmith/photos/puppy.jpg');
  assert.equal(sts, 'GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg');
  assert.equal(signV2(SECRET, sts), 'bWq2s1WEIj+Ydj0vQ697zp+IXMU=');
});
