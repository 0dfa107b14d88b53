-- A customer's referrals are read by referee (GET /v1/customers counts them), and a referral
-- program names its referee reward as Voucherify does: the reward campaign's id and name, and no
-- type (Voucherify's type describes loyalty-card and gift-card rewards; the SDK refuses
-- DISCOUNT_VOUCHER there). Programs saved before named the reward as the request gave it.

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
