-- What the official SDK's models expect: a project keeps the description, time zone and
-- currency it was created with; a customer's referrals are read by referee (GET /v1/customers
-- counts them); a referral program names its referee reward as Voucherify does, by the reward
-- campaign's id and name and without a type (Voucherify's type describes loyalty-card and
-- gift-card rewards; the SDK refuses DISCOUNT_VOUCHER there). Programs saved before named the
-- reward as the request gave it.

ALTER TABLE projects ADD COLUMN description text COLLATE "C";
ALTER TABLE projects ADD COLUMN timezone text COLLATE "C" NOT NULL DEFAULT 'UTC';
ALTER TABLE projects ADD COLUMN currency text COLLATE "C" NOT NULL DEFAULT 'USD';

CREATE INDEX referral_conversions_referee ON referral_conversions (project_id, referee_id);

UPDATE campaigns AS c SET referral_program = (
    jsonb_set(c.referral_program::jsonb #- '{referee_reward,type}',
              '{referee_reward,related_object_parent}',
              jsonb_build_object('id', reward.id, 'name', reward.name, 'object', 'CAMPAIGN'))
)::text
FROM campaigns AS reward
WHERE reward.project_id = c.project_id
  AND reward.id = (
    SELECT r.id FROM campaigns AS r
     WHERE r.project_id = c.project_id
       AND (c.referral_program::jsonb #>> '{referee_reward,related_object_parent,id}')
           IN (r.id, r.name)
     ORDER BY r.id = (c.referral_program::jsonb #>> '{referee_reward,related_object_parent,id}')
           DESC
     LIMIT 1);
