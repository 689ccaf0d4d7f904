import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';

import { computeEc2Signature, computeS3Signature, ec2SignatureMatches, requestTimestamp, SignatureFormatError } from './ec2-signature.js';

// Expected values: AWS's documented examples, and keystoneclient's Ec2Signer / Keystone's s3tokens for the rest.
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SECRET4 = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

test('signature version 2 (AWS documentation example)', () => {
  const request = {
    access: 'AKIAIOSFODNN7EXAMPLE',
    host: 'elasticmapreduce.amazonaws.com',
    verb: 'GET',
    path: '/',
    params: { Action: 'DescribeJobFlows', Version: '2009-03-31', AWSAccessKeyId: 'AKIAIOSFODNN7EXAMPLE', SignatureVersion: '2', SignatureMethod: 'HmacSHA256', Timestamp: '2011-10-03T15:19:30' },
  };
  assert.equal(computeEc2Signature(SECRET, request), 'i91nKc4PWAt0JJIdXwz9HxZCJDdiy6cf/Mj6vPxyYIs=');
  assert.equal(ec2SignatureMatches(SECRET, { ...request, signature: 'i91nKc4PWAt0JJIdXwz9HxZCJDdiy6cf/Mj6vPxyYIs=' }), true);
  assert.equal(ec2SignatureMatches('other-secret', { ...request, signature: 'i91nKc4PWAt0JJIdXwz9HxZCJDdiy6cf/Mj6vPxyYIs=' }), false);
  // Signed without the port, sent with it: accepted on the second try, as Keystone does.
  assert.equal(ec2SignatureMatches(SECRET, { ...request, host: 'elasticmapreduce.amazonaws.com:443', signature: 'i91nKc4PWAt0JJIdXwz9HxZCJDdiy6cf/Mj6vPxyYIs=' }), true);
});

test('signature versions 0 and 1', () => {
  assert.equal(computeEc2Signature(SECRET, { access: 'a', params: { Action: 'DescribeImages', Timestamp: '2011-10-03T15:19:30', SignatureVersion: '0' } }), 'VSPbfROqqYp9pejDt91fRBGZsiQ=');
  assert.equal(computeEc2Signature(SECRET, { access: 'a', params: { Action: 'x', b: 'Y', A2: 'z ü', SignatureVersion: '1' } }), 'lKignaxHen9AB/Ukz72UbTaCVSM=');
});

test('signature version 4 from the Authorization header, query parameters and POST', () => {
  const header = {
    access: 'AKIDEXAMPLE',
    host: 'example.amazonaws.com',
    verb: 'GET',
    path: '/',
    params: { Param2: 'value2', Param1: 'value 1' },
    headers: {
      Host: 'example.amazonaws.com',
      'X-Amz-Date': '20150830T123600Z',
      Authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=x',
    },
    body_hash: EMPTY_SHA256,
  };
  assert.equal(computeEc2Signature(SECRET4, header), 'ef50c793b5e6d10be6882150088b3c59c29be8c3d8e67468b1a2255c07e4f31f');

  const query = {
    access: 'AKIDEXAMPLE',
    host: 'example.amazonaws.com',
    verb: 'GET',
    path: '/',
    params: { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256', 'X-Amz-Credential': 'AKIDEXAMPLE/20150830/us-east-1/ec2/aws4_request', 'X-Amz-Date': '20150830T123600Z', 'X-Amz-SignedHeaders': 'host', Action: 'ListUsers' },
    headers: { Host: 'example.amazonaws.com:8773' },
    body_hash: EMPTY_SHA256,
  };
  assert.equal(computeEc2Signature(SECRET4, query), '45fb685952585d9b29ac904f5e058621ff976aa6cdbf70f0ea7f87c212f12a1a');

  const post = {
    access: 'AKIDEXAMPLE',
    host: 'example.amazonaws.com',
    verb: 'POST',
    path: '/',
    params: { Action: 'ListUsers' },
    headers: {
      Host: 'example.amazonaws.com',
      'X-Amz-Date': '20150830T123600Z',
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=x',
    },
    body_hash: createHash('sha256').update('Action=ListUsers&Version=2010-05-08').digest('hex'),
  };
  assert.equal(computeEc2Signature(SECRET4, post), 'c1b47a7678d1bc784a026ee2dc6d553872ec578d205394268eb26df697d0e2f6');

  // The credential scope's date must be the request's.
  assert.throws(() => computeEc2Signature(SECRET4, { ...header, headers: { ...header.headers, 'X-Amz-Date': '20150831T000000Z' } }), SignatureFormatError);
});

test('unknown or missing signature versions cannot be computed', () => {
  assert.throws(() => computeEc2Signature(SECRET, { access: 'a', params: { SignatureVersion: '3' } }), SignatureFormatError);
  assert.throws(() => computeEc2Signature(SECRET, { access: 'a', params: {} }), SignatureFormatError);
  assert.equal(ec2SignatureMatches(SECRET, { access: 'a', params: { SignatureVersion: '2' } }), false, 'no signature never matches');
});

test('S3 string-to-sign signatures (AWS documentation examples)', () => {
  assert.equal(computeS3Signature(SECRET, Buffer.from('GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg')), 'bWq2s1WEIj+Ydj0vQ697zp+IXMU=');
  const v4 = 'AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972';
  assert.equal(computeS3Signature(SECRET, Buffer.from(v4)), 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  assert.throws(() => computeS3Signature(SECRET, Buffer.from(v4.replace('/s3/', '/ec2/'))), SignatureFormatError);
  assert.throws(() => computeS3Signature(SECRET, Buffer.from('AWS4-HMAC-SHA256\nonly-two')), SignatureFormatError);
});

test('request timestamps in ISO 8601 and AWS basic format', () => {
  assert.equal(requestTimestamp({ access: 'a', params: { Timestamp: '2011-10-03T15:19:30' } })?.toISOString(), '2011-10-03T15:19:30.000Z');
  assert.equal(requestTimestamp({ access: 'a', params: { Timestamp: '2011-10-03T15:19:30+02:00' } })?.toISOString(), '2011-10-03T13:19:30.000Z');
  assert.equal(requestTimestamp({ access: 'a', headers: { 'X-Amz-Date': '20150830T123600Z' } })?.toISOString(), '2015-08-30T12:36:00.000Z');
  assert.equal(requestTimestamp({ access: 'a', params: {} }), null);
  assert.throws(() => requestTimestamp({ access: 'a', params: { Timestamp: 'yesterday' } }), SignatureFormatError);
});
