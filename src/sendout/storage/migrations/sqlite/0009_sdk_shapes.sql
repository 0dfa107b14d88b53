-- What the official SDK's models expect: a project keeps the description, time zone and
-- currency it was created with; a customer's referrals are read by referee (GET /v1/customers
-- counts them); a referral program names its referee reward as Voucherify does, by the reward
-- campaign's id and name and without a type (Voucherify's type describes loyalty-card and
-- gift-card rewards; the SDK refuses DISCOUNT_VOUCHER there). Programs saved before named the
-- reward as the request gave it.

ALTER TABLE projects ADD COLUMN description TEXT;
ALTER TABLE projects ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE projects ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';

CREATE INDEX referral_conversions_referee ON referral_conversions (project_id, referee_id);

-- A reward named by id: add its name.
UPDATE campaigns SET referral_program = json_remove(
    json_set(referral_program,
             '$.referee_reward.related_object_parent.name', (SELECT r.name FROM campaigns AS r WHERE r.project_id = campaigns.project_id AND r.id = json_extract(campaigns.referral_program, '$.referee_reward.related_object_parent.id')),
             '$.referee_reward.related_object_parent.object', 'CAMPAIGN'),
    '$.referee_reward.type')
WHERE EXISTS (SELECT 1 FROM campaigns AS r WHERE r.project_id = campaigns.project_id AND r.id = json_extract(campaigns.referral_program, '$.referee_reward.related_object_parent.id'));

-- A reward named by name (and by no campaign's id): the name moves to name, the id comes in.
UPDATE campaigns SET referral_program = json_remove(
    json_set(referral_program,
             '$.referee_reward.related_object_parent.id', (SELECT r.id FROM campaigns AS r WHERE r.project_id = campaigns.project_id AND r.name = json_extract(campaigns.referral_program, '$.referee_reward.related_object_parent.id')),
             '$.referee_reward.related_object_parent.name', json_extract(campaigns.referral_program, '$.referee_reward.related_object_parent.id'),
             '$.referee_reward.related_object_parent.object', 'CAMPAIGN'),
    '$.referee_reward.type')
WHERE EXISTS (SELECT 1 FROM campaigns AS r WHERE r.project_id = campaigns.project_id AND r.name = json_extract(campaigns.referral_program, '$.referee_reward.related_object_parent.id'))
  AND NOT EXISTS (SELECT 1 FROM campaigns AS r WHERE r.project_id = campaigns.project_id AND r.id = json_extract(campaigns.referral_program, '$.referee_reward.related_object_parent.id'));
